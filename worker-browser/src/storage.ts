/**
 * IndexedDB, the tab's only persistent storage: the identity key (when there is no injected
 * wallet) and the examples a volunteer picked. Used from both the page and the Web Worker.
 * Everything stays in this browser profile, for this origin; nothing here is ever uploaded.
 */
import type { LocalDataSummary } from './bridge.js';

const DB_NAME = 'cohort-worker';
const DB_VERSION = 1;
const KEYS = 'keys';
const DATASETS = 'datasets';

export interface StoredKey {
  /** 0x-prefixed secp256k1 private key. */
  privateKey: string;
  address: string;
  createdAt: number;
}

/** Picked examples, already decoded: one byte per pixel, row-major, plus one label each. */
export interface StoredDataset {
  pixels: Uint8Array;
  labels: Uint8Array;
  inputShape: number[];
  numClasses: number;
  summary: LocalDataSummary;
}

let opened: Promise<IDBDatabase> | undefined;

function open(): Promise<IDBDatabase> {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(KEYS)) db.createObjectStore(KEYS);
      if (!db.objectStoreNames.contains(DATASETS)) db.createObjectStore(DATASETS);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => {
      opened = undefined;
      reject(request.error ?? new Error('IndexedDB cannot be opened'));
    };
  });
  return opened;
}

async function run<T>(store: string, mode: IDBTransactionMode, action: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  return new Promise<T>((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const request = action(tx.objectStore(store));
    // Resolve on commit, not on the request's success: a write is durable only then.
    tx.oncomplete = () => resolve(request.result as T);
    tx.onerror = () => reject(tx.error ?? request.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

export function loadKey(): Promise<StoredKey | undefined> {
  return run(KEYS, 'readonly', (s) => s.get('tab-key'));
}

export async function saveKey(key: StoredKey): Promise<void> {
  await run(KEYS, 'readwrite', (s) => s.put(key, 'tab-key'));
}

export function loadDataset(): Promise<StoredDataset | undefined> {
  return run(DATASETS, 'readonly', (s) => s.get('local'));
}

/** The summary alone, so the page can show it without reading every pixel. */
export function loadDatasetSummary(): Promise<LocalDataSummary | undefined> {
  return run(DATASETS, 'readonly', (s) => s.get('local-summary'));
}

export async function saveDataset(dataset: StoredDataset): Promise<void> {
  const db = await open();
  await new Promise<void>((resolve, reject) => {
    // One transaction: the summary never describes data that is not there.
    const tx = db.transaction(DATASETS, 'readwrite');
    tx.objectStore(DATASETS).put(dataset, 'local');
    tx.objectStore(DATASETS).put(dataset.summary, 'local-summary');
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write aborted (storage quota?)'));
  });
}

export async function clearDataset(): Promise<void> {
  const db = await open();
  await new Promise<void>((resolve, reject) => {
    const tx = db.transaction(DATASETS, 'readwrite');
    tx.objectStore(DATASETS).delete('local');
    tx.objectStore(DATASETS).delete('local-summary');
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB delete failed'));
  });
}
