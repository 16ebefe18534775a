// Loads the wasm-bindgen output (built by scripts/build-examples.sh) and starts the
// app: init() instantiates yew_chat_bg.wasm, whose start function is the crate's main().
import init from './yew_chat.js';

init().catch((err) => {
  document.body.textContent = `The Yew chat could not start: ${err}`;
  console.error(err);
});
