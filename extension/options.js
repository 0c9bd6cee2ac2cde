// The options page: the API URL, the wallet whose gifts the popup shows, how often badges refresh.
import { loadSettings, saveSettings } from "./settings.js";

const form = document.getElementById("settings");
const saved = document.getElementById("saved");

loadSettings().then((settings) => {
  for (const name of ["apiUrl", "wallet", "refreshSeconds"]) form.elements[name].value = settings[name];
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await saveSettings({
      apiUrl: form.elements.apiUrl.value,
      wallet: form.elements.wallet.value,
      refreshSeconds: form.elements.refreshSeconds.value,
    });
    saved.textContent = "Saved.";
    saved.className = "";
  } catch (error) {
    saved.textContent = String(error.message || error);
    saved.className = "error";
  }
});
