// The popup: the configured wallet's gifts and the creators it gave to, from the API via the worker.
const status = document.getElementById("status");

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

chrome.runtime.sendMessage({ type: "wallet" }, (answer) => {
  if (!answer || answer.error) {
    status.textContent = `Cannot reach the MEMEFANS API: ${answer ? answer.error : "no answer"}`;
    status.className = "error";
    return;
  }
  const data = answer.result;
  if (!data.configured) {
    status.textContent = "Set your wallet address in Settings to see your gifts.";
    return;
  }
  status.textContent = `Wallet ${data.wallet.slice(0, 4)}…${data.wallet.slice(-4)}: ${data.gifts.length} recent gifts`;
  const creators = document.getElementById("creators");
  const body = creators.querySelector("tbody");
  for (const c of data.creators) {
    const row = document.createElement("tr");
    row.dataset.creator = c.creator;
    row.append(cell(`${c.platform}/@${c.handle}`), cell(c.label), cell(String(c.gift_count)));
    body.append(row);
  }
  creators.hidden = data.creators.length === 0;
  const history = document.getElementById("history");
  const list = history.querySelector("ol");
  for (const g of data.gifts) {
    const item = document.createElement("li");
    item.dataset.signature = g.signature;
    item.textContent = `${g.label} to ${g.platform}/@${g.handle}${g.post_id ? ` (post ${g.post_id})` : ""} · ${g.commitment}`;
    list.append(item);
  }
  history.hidden = data.gifts.length === 0;
});
