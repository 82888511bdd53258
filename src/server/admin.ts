// The admin guard every admin route shares: a bearer token compared in constant time, off without a token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AffinityError, ErrorCode } from '../core/errors.js';
import type { ServerState } from './context.js';

/** Constant-time comparison (hashing first, so the lengths leak nothing either). */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A preHandler admitting requests with the admin token (401 without it, 403 when admin routes are off). */
export function adminOnly(state: ServerState): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const expected = state.adminToken;
    if (!expected) throw new AffinityError('admin routes are disabled: set AFFINITY_ADMIN_TOKEN to enable them', ErrorCode.AdminDisabled);
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!tokenMatches(given, expected)) throw new AffinityError('missing or wrong admin token', ErrorCode.Unauthorized);
    if (state.closing) throw new AffinityError('the server is shutting down', ErrorCode.NotReady);
  };
}

/**
 * The guard of what the dashboard reads (chart data, a customer's view): open on a server without an admin
 * token, the admin token once it has one.
 */
export function dashboardGuard(state: ServerState): (request: FastifyRequest) => Promise<void> {
  const admin = adminOnly(state);
  return async (request) => {
    if (state.adminToken) await admin(request);
  };
}
