// Preloaded into the bench's `next start` processes (NODE_OPTIONS=--import): counts AES-CBC
// decrypts, which is what decoding an Auth.js session JWT (A256CBC-HS512) costs, one per decode,
// in our app and the bare one alike. Read through each app's /api/decrypts route.
const counter = { decrypts: 0 };
globalThis[Symbol.for("authjs-backend-credentials.bench.decrypts")] = counter;
const subtle = globalThis.crypto.subtle;
const decrypt = subtle.decrypt.bind(subtle);
subtle.decrypt = (algorithm, key, data) => {
  if ((typeof algorithm === "string" ? algorithm : algorithm?.name) === "AES-CBC") {
    counter.decrypts++;
  }
  return decrypt(algorithm, key, data);
};
