// Loaded first by every page: state-changing requests carry the session's CSRF token, an expired
// login goes back to the login page, and a corner badge shows who is logged in (with 退出).
(() => {
  const originalFetch = window.fetch.bind(window);
  const csrf = () => decodeURIComponent((document.cookie.match(/(?:^|; )kefu_csrf=([^;]*)/) || [])[1] || "");
  window.fetch = async (url, options = {}) => {
    const method = (options.method || "GET").toUpperCase();
    if (!["GET", "HEAD", "OPTIONS"].includes(method)) {
      options = { ...options, headers: { ...(options.headers || {}), "X-CSRF-Token": csrf() } };
    }
    const response = await originalFetch(url, options);
    if (response.status === 401) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname);
    }
    return response;
  };
  document.addEventListener("DOMContentLoaded", async () => {
    const response = await originalFetch("/api/me");
    if (!response.ok) return;
    const me = await response.json();
    const badge = document.createElement("div");
    badge.className = "whoami";
    badge.id = "whoami";
    const who = document.createElement("span");
    who.textContent = `${me.name} · ${me.role}`;
    const out = document.createElement("button");
    out.textContent = "退出";
    out.id = "logout";
    out.addEventListener("click", async () => {
      await window.fetch("/logout", { method: "POST" });
      location.href = "/login";
    });
    badge.append(who, out);
    document.body.append(badge);
  });
})();
