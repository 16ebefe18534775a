// Loads the wasm-bindgen output (built by scripts/build-examples.sh) and starts the
// app: init() instantiates leptos_chat_bg.wasm, whose start function is the crate's main().
import init from './leptos_chat.js';

init().catch((err) => {
  document.body.textContent = `The Leptos chat could not start: ${err}`;
  console.error(err);
});
