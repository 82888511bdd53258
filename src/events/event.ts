// What a customer did, as the events store keeps it: the one validator of incoming events (the HTTP route,
// `affinity ingest` and Store.append all go through checkEvents), and the one rule that turns an event
// into an interaction strength (training from the store and fresh fold-in agree on it).
import { createHmac } from 'node:crypto';
import { badInput } from '../core/errors.js';
import { idProblem, type Id } from '../data/ids.js';

/** The event types with a meaning for the models; any other non-empty name is a custom type. */
export const EVENT_TYPES = ['purchase', 'view', 'click', 'cart', 'rating'] as const;

export interface EventInput {
  /** Makes the write idempotent: an id seen before is not stored again. Without one every write is new. */
  id?: string;
  type: string;
  customer: Id;
  item?: Id;
  /** Interaction strength (a rating, a quantity); default: the type's weight (see EVENT_WEIGHTS). */
  value?: number;
  /** Money spent. */
  amount?: number;
  /** The order or basket the event belongs to. */
  basket?: Id;
  /** When: ISO-8601 text, Unix seconds or a Date (default: now). */
  time?: string | number | Date;
  /** Anything else worth keeping (a JSON object, at most 8 KiB). */
  attributes?: Record<string, unknown>;
}

/** An event as stored: ids as text, time in Unix milliseconds, `seq` its place in the store's order. */
export interface StoredEvent {
  seq: number;
  id: string | null;
  type: string;
  customer: string;
  item: string | null;
  value: number | null;
  amount: number | null;
  basket: string | null;
  time: number;
  attributes: Record<string, unknown> | null;
}

/** An event checked and normalized, ready for a store (no seq yet). */
export type NewEvent = Omit<StoredEvent, 'seq'>;

/** The most events one append takes (the HTTP route's batch limit). */
export const MAX_BATCH = 10_000;
const MAX_ATTRIBUTES_BYTES = 8192;
const MAX_TYPE_LENGTH = 64;

/** Default strength of an event without a value, by type; custom types count 1. */
export const EVENT_WEIGHTS: Readonly<Record<string, number>> = { purchase: 1, cart: 0.5, rating: 1, click: 0.25, view: 0.1 };

/** The interaction strength of an event: its value, else its type's weight. */
export function strengthOf(e: Pick<StoredEvent, 'type' | 'value'>, weights: Readonly<Record<string, number>> = EVENT_WEIGHTS): number {
  return e.value ?? weights[e.type] ?? 1;
}

function idText(value: unknown, what: string): string {
  const problem = idProblem(value);
  if (problem !== undefined) throw badInput(`${what}: ${problem}`);
  return String(value);
}

function optionalNumber(value: unknown, what: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badInput(`${what} must be a finite number`);
  return value;
}

/** Unix milliseconds of an event time; now without one. Years outside 1970..9999 are refused. */
export function timeOf(value: unknown, what: string, now = Date.now()): number {
  if (value === undefined || value === null) return now;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms) || ms < 0 || ms > 253402300799999) throw badInput(`${what} must be ISO-8601 text, Unix seconds or a Date between 1970 and 9999`);
  return Math.round(ms);
}

const FIELDS = new Set(['id', 'type', 'customer', 'item', 'value', 'amount', 'basket', 'time', 'attributes']);

/** One event checked and normalized; errors name its place in the batch. */
export function checkEvent(input: unknown, n = 0, now = Date.now()): NewEvent {
  const at = `events[${n}]`;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw badInput(`${at} must be an object`);
  const e = input as Record<string, unknown>;
  for (const key of Object.keys(e)) if (!FIELDS.has(key)) throw badInput(`${at} has an unknown field ${JSON.stringify(key)}`);
  if (typeof e.type !== 'string' || e.type.length === 0 || e.type.length > MAX_TYPE_LENGTH) throw badInput(`${at}.type must be a non-empty string of at most ${MAX_TYPE_LENGTH} characters`);
  let attributes: Record<string, unknown> | null = null;
  if (e.attributes !== undefined && e.attributes !== null) {
    if (typeof e.attributes !== 'object' || Array.isArray(e.attributes)) throw badInput(`${at}.attributes must be an object`);
    if (Buffer.byteLength(JSON.stringify(e.attributes)) > MAX_ATTRIBUTES_BYTES) throw badInput(`${at}.attributes is over ${MAX_ATTRIBUTES_BYTES} bytes`);
    attributes = e.attributes as Record<string, unknown>;
  }
  const value = optionalNumber(e.value, `${at}.value`);
  const item = e.item === undefined || e.item === null ? null : idText(e.item, `${at}.item`);
  if (e.type === 'rating' && value === null) throw badInput(`${at}: a rating needs a value`);
  if (item === null && (e.type === 'purchase' || e.type === 'view' || e.type === 'click' || e.type === 'cart' || e.type === 'rating')) throw badInput(`${at}: a ${e.type} event needs an item`);
  return {
    id: e.id === undefined || e.id === null ? null : idText(e.id, `${at}.id`),
    type: e.type,
    customer: idText(e.customer, `${at}.customer`),
    item,
    value,
    amount: optionalNumber(e.amount, `${at}.amount`),
    basket: e.basket === undefined || e.basket === null ? null : idText(e.basket, `${at}.basket`),
    time: timeOf(e.time, `${at}.time`, now),
    attributes,
  };
}

/** A batch checked as a whole: one bad event refuses all of it (nothing is stored). */
export function checkEvents(input: unknown): NewEvent[] {
  const list = Array.isArray(input) ? input : [input];
  if (list.length === 0) throw badInput('no events given');
  if (list.length > MAX_BATCH) throw badInput(`at most ${MAX_BATCH} events at once, got ${list.length}`);
  const now = Date.now();
  return list.map((e, n) => checkEvent(e, n, now));
}

/** The events of a JSON request body, checked as a batch (see checkEvents). */
export function checkEventsJson(json: string): NewEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw badInput(`the body is not JSON: ${(err as Error).message}`);
  }
  return checkEvents(parsed);
}

/**
 * Customer ids as a store keeps them: as given, or (with a key) HMAC-SHA-256 pseudonyms, so the store never
 * holds an id a breach could tie to a person without the key.
 */
export class Pseudonyms {
  constructor(private readonly key?: string) {
    if (key !== undefined && (typeof key !== 'string' || key.length < 16)) throw badInput('a pseudonymization key must be a string of at least 16 characters');
  }
  get enabled(): boolean {
    return this.key !== undefined;
  }
  of(customer: Id): string {
    const text = String(customer);
    return this.key === undefined ? text : createHmac('sha256', this.key).update(text).digest('hex');
  }
  /** Events with their customers as the store keeps them. */
  apply(events: NewEvent[]): NewEvent[] {
    return this.key === undefined ? events : events.map((e) => ({ ...e, customer: this.of(e.customer) }));
  }
}
