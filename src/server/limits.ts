// The request limits of the HTTP API, in a module of their own so the published types of affinity/server
// name them without pulling in the schema library.
import { MAX_ID_LENGTH } from '../data/ids.js';

export const LIMITS = { k: 1000, batchUsers: 1000, listItems: 1000, idLength: MAX_ID_LENGTH, value: 1e6 } as const;
