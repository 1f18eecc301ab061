// The shoppers' chat: sends each message to /api/v1/chat and shows the desk's answer; then keeps
// the conversation's transcript (GET /api/v1/chat/{conversation}) in view, so a person's answer
// to a message automation handed over appears in the open window. Served by the app (the
// Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  let conversation = null;
  let shown = 0;  // transcript lines already on screen
  const log = document.getElementById("log");
  function say(who, text) {
    const line = document.createElement("div");
    line.className = who;
    const bubble = document.createElement("span");
    bubble.textContent = text;
    line.appendChild(bubble);
    log.appendChild(line);
  }
  function redraw(messages) {
    log.replaceChildren();
    for (const message of messages) say(message.from === "customer" ? "me" : "desk", message.text);
    shown = messages.length;
  }
  async function refresh() {
    if (!conversation) return;
    const response = await fetch("/api/v1/chat/" + encodeURIComponent(conversation));
    if (!response.ok) return;
    const body = await response.json();
    if (body.messages.length !== shown) redraw(body.messages);
  }
  setInterval(refresh, 2000);
  document.getElementById("send").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = event.target.message;
    const text = field.value.trim();
    if (!text) return;
    say("me", text);
    field.value = "";
    const email = document.querySelector("input[name=email]").value || null;
    const response = await fetch("/api/v1/chat", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({message: text, email: email, conversation: conversation}),
    });
    const body = await response.json();
    if (!response.ok) { say("desk", body.error.message); return; }
    conversation = body.conversation;
    say("desk", body.reply || "Thanks — we will get back to you shortly.");
    await refresh();
  });
})();
