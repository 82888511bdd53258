import type { Overview, Source } from '../api.js';

/** One page of the dashboard: shown when the server serves what it needs, drawn from one load. */
export interface Page<T = unknown> {
  id: string;
  title: string;
  shows(overview: Overview): boolean;
  /** The page loads one of these, by name (the first unless one is chosen): models of its kind, or policies. */
  choices?(overview: Overview): string[];
  load(source: Source, overview: Overview, choice?: string): Promise<T>;
  render(data: T, source: Source): HTMLElement[];
  /** Pages that refresh themselves (ms between loads) while they are in view. */
  refreshMs?: number;
  /** Pages left out of report files (the customer view: a report is a file that travels). */
  serverOnly?: boolean;
}

/** A route with the chosen model (or policy) as its query, or the server's default without one. */
export const withChoice = (path: string, param: string, choice: string | undefined) => (choice === undefined ? path : `${path}?${param}=${encodeURIComponent(choice)}`);

/** A page of one model kind: shown when one is served, a choice among them, its data from `route?model=`. */
export function ofModelKind<T>(kind: string, route: string): Pick<Page<T>, 'shows' | 'choices' | 'load'> {
  const names = (o: Overview) => o.models.filter((m) => m.kind === kind).map((m) => m.name);
  return { shows: (o) => names(o).length > 0, choices: names, load: (src, _o, model) => src.get<T>(withChoice(route, 'model', model)) };
}
