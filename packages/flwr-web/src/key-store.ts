/**
 * Keeps the page's SuperNode key pair in IndexedDB, so a reload is the same node. `CryptoKey`s
 * are stored as they are (IndexedDB's structured clone keeps them, non-extractable private key
 * included: script can sign with it, never read it; it never leaves the browser).
 */
import { describeKey, type SuperNodeKey } from "./web-key.js";

const DB_NAME = "flwr-ts-supernode";
const STORE = "keys";
const ENTRY = "supernode-key";

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("IndexedDB cannot be opened"));
  });
}

function inStore<T>(
  mode: IDBTransactionMode,
  op: (s: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  return openDb().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const req = op(tx.objectStore(STORE));
        tx.oncomplete = () => {
          db.close();
          resolve(req.result);
        };
        tx.onerror = () => {
          db.close();
          reject(tx.error ?? new Error("IndexedDB transaction failed"));
        };
      }),
  );
}

/** The stored key pair, or undefined. */
export async function loadStoredKey(comment = ""): Promise<SuperNodeKey | undefined> {
  const pair = (await inStore("readonly", (s) => s.get(ENTRY))) as CryptoKeyPair | undefined;
  return pair ? describeKey(pair, comment) : undefined;
}

/** Stores (replaces) the key pair. */
export async function storeKey(key: SuperNodeKey): Promise<void> {
  const pair: CryptoKeyPair = { privateKey: key.privateKey, publicKey: key.publicKey };
  await inStore("readwrite", (s) => s.put(pair, ENTRY));
}

/** Forgets the stored key pair. */
export async function deleteStoredKey(): Promise<void> {
  await inStore("readwrite", (s) => s.delete(ENTRY));
}
