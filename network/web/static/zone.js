// Tells the hub the browser's time zone (an IANA name such as "Asia/Tehran"), so the member pages
// show times in the member's own zone. The pages work without it: they then use the language's
// default zone. The hub checks the name against its zone list before using it.
(function () {
  var script = document.currentScript;
  var name = script && script.getAttribute("data-cookie");
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  // IANA names ("America/Argentina/Buenos_Aires", "Etc/GMT+3") are valid cookie values as they
  // are; anything else is not a zone, so it is not sent.
  if (!name || !zone || zone.length > 64 || !/^[A-Za-z0-9_+\-\/]+$/.test(zone)) {
    return;
  }
  var value = zone;
  if (document.cookie.split("; ").indexOf(name + "=" + value) >= 0) {
    return;
  }
  document.cookie = name + "=" + value + "; path=/; max-age=31536000; samesite=lax" +
    (script.getAttribute("data-secure") === "1" ? "; secure" : "");
})();
