// Loaded first, as a classic script: a failure of the page itself (a library that did not load,
// a bug) is said on the badge, which keeps saying it (status.js reads data-page-error).
(function () {
  function showBroken(message) {
    const text = "The dashboard page failed: " + message + ". Reload the page; if it persists, tell the data team.";
    document.body.dataset.pageError = text;
    const badge = document.getElementById("freshness");
    badge.textContent = text;
    badge.className = "badge badge-down";
  }
  window.addEventListener("error", function (event) { showBroken(event.message); });
  window.addEventListener("unhandledrejection", function (event) {
    showBroken(String((event.reason && event.reason.message) || event.reason));
  });
})();
