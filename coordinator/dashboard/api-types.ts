/**
 * The dashboard's JSON API types. They live with every other HTTP body in core/protocol/http-api.ts;
 * this re-export keeps the dashboard's imports short. Types only (bundled into the browser page).
 */
export type * from '../../core/protocol/http-api.js';
