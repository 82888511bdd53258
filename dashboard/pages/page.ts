import type { Overview, Source } from '../api.js';

/** One page of the dashboard: shown when the server serves what it needs, drawn from one load. */
export interface Page<T = unknown> {
  id: string;
  title: string;
  shows(overview: Overview): boolean;
  load(source: Source, overview: Overview): Promise<T>;
  render(data: T, source: Source): HTMLElement[];
  /** Pages that refresh themselves (ms between loads) while they are in view. */
  refreshMs?: number;
  /** Pages left out of report files (the customer view: a report is a file that travels). */
  serverOnly?: boolean;
}

export const hasKind = (o: Overview, ...kinds: string[]) => o.models.some((m) => kinds.includes(m.kind));
