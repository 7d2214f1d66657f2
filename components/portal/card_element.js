// The portal's card element: mounts the active gateway's card inputs and confirms card setups and payments with
// the gateway directly, so card data goes from this page to the gateway and never over the app's websocket.
// Stripe: Stripe.js (loaded before this file) does the work. The built-in test gateway: the inputs below post the
// card over plain HTTP to the app's /test-gateway/v1 routes, like Stripe.js posts to Stripe.
"use strict";
window.portalCardElement = (() => {
  const mounted = {}; // host element id -> {config, stripe, card, inputs}

  async function host(id) {
    // NiceGUI renders the host element shortly after it is created: wait for it (up to 5 s).
    for (let waited = 0; waited < 5000; waited += 50) {
      const element = document.getElementById(id);
      if (element) return element;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`card element host ${id} not found`);
  }

  const standIns = {}; // script URL -> its loading

  function loadStandIn(url) {
    // A stand-in Stripe.js (localstripe's mock, for tests) declares a global `class Element`, which as a <script>
    // would shadow the DOM's Element for every script on the page (Quasar checks `instanceof Element`); so it is
    // evaluated in a function scope, where it still defines window.Stripe. The real Stripe.js is a <script> tag.
    if (!standIns[url]) {
      standIns[url] = fetch(url)
        .then((response) => response.text())
        .then((source) => {
          const scoped = new Proxy(document, {
            get: (target, key) =>
              key === "currentScript"
                ? { src: url }
                : typeof target[key] === "function"
                  ? target[key].bind(target)
                  : target[key],
          });
          new Function("document", source)(scoped);
        });
    }
    return standIns[url];
  }

  async function stripe(config) {
    if (config.stand_in_script) await loadStandIn(config.stand_in_script);
    return Stripe(config.publishable_key);
  }

  function failure(error) {
    const known = error && typeof error === "object" ? error : {};
    return { error: { code: known.code || "", decline_code: known.decline_code || "" } };
  }

  // --- the built-in test gateway ----------------------------------------------------------------------------------

  function testInput(container, label, name, autocomplete, placeholder) {
    const field = document.createElement("label");
    field.className = "test-gateway-field";
    field.style.cssText = "display:flex;flex-direction:column;gap:2px;font-size:13px;color:#3c4257;flex:1 1 8em";
    const input = document.createElement("input");
    Object.assign(input, { name, autocomplete, placeholder, type: "text", spellcheck: false });
    input.setAttribute("inputmode", name === "number" || name === "cvc" ? "numeric" : "text");
    input.style.cssText = "font:inherit;font-size:16px;padding:8px;border:1px solid #c0c8d2;border-radius:4px";
    field.append(label, input);
    container.append(field);
    return input;
  }

  function mountTest(element) {
    const row = document.createElement("div");
    row.style.cssText = "display:flex;flex-wrap:wrap;gap:8px;width:100%";
    const inputs = {
      number: testInput(row, "Card number", "number", "cc-number", "1234 1234 1234 1234"),
      expiry: testInput(row, "Expiry (MM/YY)", "expiry", "cc-exp", "MM/YY"),
      cvc: testInput(row, "CVC", "cvc", "cc-csc", "123"),
      postal_code: testInput(row, "Postal code", "postal_code", "postal-code", ""),
    };
    element.append(row);
    return inputs;
  }

  async function testPost(path, body) {
    try {
      const response = await fetch(`/test-gateway/v1/${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
      });
      return await response.json();
    } catch (error) {
      return { error: { code: "processing_error" } };
    }
  }

  function challenge(text) {
    // The simulated bank page of a 3-D Secure check: the customer confirms or refuses.
    return new Promise((resolve) => {
      const overlay = document.createElement("div");
      overlay.style.cssText =
        "position:fixed;inset:0;z-index:2147483647;background:rgba(10,37,64,.5);display:flex;align-items:center;justify-content:center";
      const box = document.createElement("div");
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-modal", "true");
      box.setAttribute("aria-label", "3-D Secure");
      box.style.cssText = "background:#fff;border-radius:8px;padding:24px;max-width:360px;font:16px sans-serif";
      const title = document.createElement("p");
      title.style.fontWeight = "600";
      title.textContent = "3-D Secure (test)";
      const explanation = document.createElement("p");
      explanation.textContent = text;
      box.append(title, explanation);
      for (const [label, answer] of [["Complete authentication", true], ["Fail authentication", false]]) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = label;
        button.style.cssText = answer
          ? "margin:4px;padding:8px 12px;font:inherit;border:1px solid #0a2540;border-radius:4px;background:#0a2540;color:#fff;cursor:pointer"
          : "margin:4px;padding:8px 12px;font:inherit;border:1px solid #0a2540;border-radius:4px;background:#fff;color:#0a2540;cursor:pointer";
        button.addEventListener("click", () => {
          overlay.remove();
          resolve(answer);
        });
        box.append(button);
      }
      overlay.append(box);
      document.body.append(overlay);
      box.querySelector("button").focus();
    });
  }

  async function confirmTestSetup(state, clientSecret) {
    const card = Object.fromEntries(["number", "expiry", "cvc"].map((key) => [key, state.inputs[key].value]));
    let answer = await testPost("setup_intents/confirm", { client_secret: clientSecret, card });
    if (answer.status === "requires_action") {
      const authenticated = await challenge("Your bank asks you to confirm that you are saving this card.");
      answer = await testPost("setup_intents/authenticate", { challenge: answer.challenge, authenticated });
    }
    return answer.setup_result ? { setup_result: answer.setup_result } : failure(answer.error);
  }

  async function confirmTestPayment(clientSecret) {
    const authenticated = await challenge("Your bank asks you to confirm this payment.");
    const answer = await testPost("payment_intents/authenticate", { client_secret: clientSecret, authenticated });
    return answer.confirmation ? { confirmation: answer.confirmation } : failure(answer.error);
  }

  // --- what the portal's Python side calls (through run_javascript: only results come back) ------------------

  return {
    async mount(id, config) {
      const element = await host(id);
      for (const other of Object.keys(mounted)) this.unmount(other); // one card element on a page at a time
      element.replaceChildren();
      const state = { config };
      if (config.gateway === "stripe") {
        state.stripe = await stripe(config);
        state.card = state.stripe.elements().create("card");
        state.card.mount(element);
      } else {
        state.inputs = mountTest(element);
        state.inputs.number.focus();
      }
      mounted[id] = state;
      return true;
    },

    async confirmSetup(id, clientSecret, name) {
      const state = mounted[id];
      if (!state) return failure({ code: "setup_intent_unexpected_state" });
      if (state.config.gateway !== "stripe") return confirmTestSetup(state, clientSecret);
      const result = await state.stripe.confirmCardSetup(clientSecret, {
        payment_method: { card: state.card, billing_details: { name } },
      });
      return result.error ? failure(result.error) : { setup_result: result.setupIntent.id };
    },

    async confirmPayment(config, clientSecret, paymentMethod) {
      if (config.gateway !== "stripe") return confirmTestPayment(clientSecret);
      const result = await (await stripe(config)).confirmCardPayment(clientSecret, { payment_method: paymentMethod });
      // The app asks Stripe itself how the payment stands; the browser's word is not taken for it.
      return result.error ? failure(result.error) : { confirmation: result.paymentIntent.id };
    },

    unmount(id) {
      const state = mounted[id];
      if (state && state.card) state.card.destroy();
      delete mounted[id];
    },
  };
})();
