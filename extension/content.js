// Finds creator handles on X and YouTube pages and puts a MEMEFANS badge beside each: the creator's
// indexed gift total and a button that opens the gift Action. Selectors lean on what the sites keep
// stable (data-testid, itemprop, @handle links), and a MutationObserver catches what loads later.
(() => {
  "use strict";

  const X_HANDLE = /^[A-Za-z0-9_]{1,15}$/;
  const YT_HANDLE = /^[A-Za-z0-9_.-]{3,30}$/; // YouTube handles: letters, digits, underscores, hyphens, periods
  const X_RESERVED = new Set(["home", "explore", "notifications", "messages", "i", "settings", "search", "compose"]);
  const BADGED = "memefansHandle";

  function platformOf(host) {
    if (/(^|\.)(x|twitter)\.com$/.test(host)) return "x";
    if (/(^|\.)youtube\.com$/.test(host)) return "youtube";
    return null;
  }

  // -> [{anchor, handle}] for the page's platform
  function findX(root) {
    const found = [];
    // a tweet's author block and a profile's header both carry a link to /handle
    for (const block of root.querySelectorAll('[data-testid="User-Name"], [data-testid="UserName"]')) {
      let handle = null;
      for (const link of block.querySelectorAll('a[href^="/"]')) {
        const segment = link.getAttribute("href").split(/[/?#]/)[1] || "";
        if (X_HANDLE.test(segment) && !X_RESERVED.has(segment.toLowerCase())) {
          handle = segment;
          break;
        }
      }
      if (!handle) {
        const text = block.textContent.match(/@([A-Za-z0-9_]{1,15})/);
        handle = text ? text[1] : null;
      }
      if (handle) found.push({ anchor: block, handle });
    }
    return found;
  }

  function findYouTube(root) {
    const found = [];
    const selectors = [
      'ytd-channel-name a[href^="/@"]',
      '#owner a[href^="/@"]',
      'a.yt-simple-endpoint[href^="/@"]',
      'a[aria-label][href^="/@"]',
    ];
    const seen = new Set();
    for (const link of root.querySelectorAll(selectors.join(", "))) {
      if (seen.has(link)) continue;
      seen.add(link);
      const handle = decodeURIComponent(link.getAttribute("href").slice(2).split(/[/?#]/)[0]);
      if (YT_HANDLE.test(handle)) found.push({ anchor: link, handle });
    }
    return found;
  }

  function badgeFor(anchor, platform, handle) {
    const badge = document.createElement("span");
    badge.className = "memefans-badge";
    badge.dataset.platform = platform;
    badge.dataset.handle = handle;
    badge.dataset.state = "loading";
    badge.setAttribute("role", "status");
    badge.setAttribute("aria-label", `MEMEFANS gifts to @${handle}`);
    const label = document.createElement("span");
    label.className = "memefans-total";
    label.textContent = "🎁 …";
    const gift = document.createElement("a");
    gift.className = "memefans-gift";
    gift.textContent = "Gift";
    gift.target = "_blank";
    gift.rel = "noopener noreferrer";
    badge.append(label, gift);
    anchor.insertAdjacentElement("afterend", badge);
    return badge;
  }

  function refresh(badge) {
    const { platform, handle } = badge.dataset;
    chrome.runtime.sendMessage({ type: "creator", platform, handle }, (answer) => {
      const label = badge.querySelector(".memefans-total");
      if (chrome.runtime.lastError || !answer || answer.error) {
        badge.dataset.state = "error";
        label.textContent = "🎁 unavailable";
        badge.title = (answer && answer.error) || String(chrome.runtime.lastError && chrome.runtime.lastError.message);
        return;
      }
      const creator = answer.result;
      badge.dataset.state = creator.known ? "known" : "unknown";
      badge.dataset.total = creator.known ? creator.total : "0";
      label.textContent = `🎁 ${creator.label}`;
      badge.querySelector(".memefans-gift").href =
        "https://dial.to/?action=" + encodeURIComponent("solana-action:" + creator.action);
    });
  }

  const platform = platformOf(location.hostname);
  if (!platform) return;

  function scan() {
    const found = platform === "x" ? findX(document) : findYouTube(document);
    for (const { anchor, handle } of found) {
      if (anchor.dataset[BADGED] === handle) continue;
      anchor.dataset[BADGED] = handle;
      refresh(badgeFor(anchor, platform, handle));
    }
  }

  let pending = null;
  new MutationObserver(() => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      scan();
    }, 150);
  }).observe(document.documentElement, { childList: true, subtree: true });
  scan();

  chrome.storage.local.get({ refreshSeconds: 30 }, ({ refreshSeconds }) => {
    setInterval(() => document.querySelectorAll(".memefans-badge").forEach(refresh), refreshSeconds * 1000);
  });
})();
