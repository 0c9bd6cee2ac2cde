// The extension's settings, kept in chrome.storage.local; one place for their names and defaults.
export const DEFAULTS = Object.freeze({
  apiUrl: "http://127.0.0.1:8000",
  wallet: "",
  refreshSeconds: 30,
});

export async function loadSettings() {
  const stored = await chrome.storage.local.get(Object.keys(DEFAULTS));
  return { ...DEFAULTS, ...stored };
}

export async function saveSettings(changes) {
  const clean = {};
  if ("apiUrl" in changes) {
    const url = new URL(changes.apiUrl); // throws on a malformed URL: the options page shows it
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("the API URL must be http(s)");
    clean.apiUrl = url.origin;
  }
  if ("wallet" in changes) {
    const wallet = String(changes.wallet).trim();
    if (wallet && !/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(wallet)) throw new Error("not a base58 Solana address");
    clean.wallet = wallet;
  }
  if ("refreshSeconds" in changes) {
    const seconds = Number(changes.refreshSeconds);
    if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600) throw new Error("refresh between 1 and 3600 s");
    clean.refreshSeconds = Math.round(seconds);
  }
  await chrome.storage.local.set(clean);
  return clean;
}

// Lamports (a decimal string, exact) to SOL for display, without floating point surprises.
export function formatSol(lamports) {
  const value = BigInt(lamports);
  const whole = value / 1_000_000_000n;
  const fraction = (value % 1_000_000_000n).toString().padStart(9, "0").slice(0, 4).replace(/0+$/, "");
  return fraction ? `${whole}.${fraction} SOL` : `${whole} SOL`;
}
