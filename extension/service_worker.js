// Every call to the MEMEFANS API goes through here (content scripts and the popup send messages): one
// place for the API URL, a small cache with a time to live, and errors turned into plain messages.
import { formatSol, loadSettings } from "./settings.js";

const cache = new Map(); // url -> {at, body}

async function getJson(path, { fresh = false } = {}) {
  const { apiUrl, refreshSeconds } = await loadSettings();
  const url = apiUrl + path;
  const hit = cache.get(url);
  if (!fresh && hit && Date.now() - hit.at < refreshSeconds * 1000) return hit.body;
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (response.status === 404) {
    const result = { missing: true, message: body.message || "not found" };
    cache.set(url, { at: Date.now(), body: result });
    return result;
  }
  if (!response.ok) throw new Error(body.message || `the API answered ${response.status}`);
  cache.set(url, { at: Date.now(), body });
  return body;
}

async function creator({ platform, handle }) {
  const path = `/v1/creators/${encodeURIComponent(platform)}/${encodeURIComponent(handle)}`;
  const body = await getJson(path);
  const { apiUrl } = await loadSettings();
  const action = `${apiUrl}/v1/actions/gift/${encodeURIComponent(platform)}/${encodeURIComponent(handle)}`;
  if (body.missing) return { platform, handle, known: false, label: "no gifts yet", action };
  return {
    platform,
    handle,
    known: true,
    total: body.totals.gifted,
    label: `${formatSol(body.totals.gifted)} · ${body.gift_count} gift${body.gift_count === 1 ? "" : "s"}`,
    giftCount: body.gift_count,
    action,
  };
}

async function wallet() {
  const { wallet: pubkey } = await loadSettings();
  if (!pubkey) return { configured: false };
  const [gifts, balances] = await Promise.all([
    getJson(`/v1/wallets/${pubkey}/gifts?limit=20`, { fresh: true }),
    getJson(`/v1/wallets/${pubkey}/balances`, { fresh: true }),
  ]);
  return {
    configured: true,
    wallet: pubkey,
    gifts: (gifts.items || []).map((g) => ({ ...g, label: formatSol(g.amount) })),
    creators: (balances.creators || []).map((c) => ({ ...c, label: formatSol(c.gifted) })),
  };
}

const HANDLERS = { creator, wallet };

chrome.runtime.onMessage.addListener((message, _sender, reply) => {
  const handler = HANDLERS[message && message.type];
  if (!handler) {
    reply({ error: `unknown message ${message && message.type}` });
    return false;
  }
  handler(message)
    .then((result) => reply({ result }))
    .catch((error) => reply({ error: String(error.message || error) }));
  return true; // the reply comes asynchronously
});

chrome.storage.onChanged.addListener(() => cache.clear()); // a new API URL or wallet: start afresh
