// Where a page's data comes from: the server's JSON routes (with the admin token when the server asks for
// it), or, in a report file, the data inlined in the page.
import type { Static } from 'typebox';
import type * as S from '../src/server/schemas.js';

export type Overview = Static<typeof S.OverviewInsightsReply>;
export type Churn = Static<typeof S.ChurnInsightsReply>;
export type Campaigns = Static<typeof S.CampaignInsightsReply>;
export type Lifetime = Static<typeof S.LifetimeInsightsReply>;
export type Segments = Static<typeof S.SegmentsInsightsReply>;
export type Quality = Static<typeof S.QualityInsightsReply>;
export type Offers = Static<typeof S.OffersInsightsReply>;
export type Customer = Static<typeof S.CustomerInsightsReply>;

/** What a report file carries: the overview and each page's data, by page id. */
export interface ReportData {
  generatedAt: string;
  overview: Overview;
  pages: Record<string, unknown>;
}

export class Unauthorized extends Error {}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const TOKEN_KEY = 'affinity-admin-token';

export interface Source {
  readonly report: ReportData | undefined;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
}

/** The JSON routes beside the dashboard: `<prefix>/dashboard/` reads `<prefix>/v1/...`. */
export function serverSource(): Source {
  const base = location.pathname.replace(/\/dashboard(\/.*)?$/, '');
  const call = async <T>(path: string, init: RequestInit): Promise<T> => {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers: Record<string, string> = { accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}) };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(base + path, { ...init, headers, cache: 'no-store' });
    if (res.status === 401) throw new Unauthorized('this server needs its admin token');
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(res.status, body.code ?? 'ERR_HTTP', body.message ?? res.statusText);
    return body as T;
  };
  return {
    report: undefined,
    get: (path) => call(path, { method: 'GET' }),
    post: (path, body) => call(path, { method: 'POST', body: JSON.stringify(body) }),
  };
}

export function reportSource(data: ReportData): Source {
  const fail = async (): Promise<never> => {
    throw new ApiError(0, 'ERR_REPORT', 'a report file has no server to ask');
  };
  return { report: data, get: fail, post: fail };
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}
