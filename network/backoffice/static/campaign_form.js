// The console's campaign form: show only the value input of the chosen effect. Without scripts
// every effect's input shows, and the server reads only the chosen one's.
(function () {
  "use strict";
  var kind = document.getElementById("f-effect-kind");
  if (!kind) { return; }
  var inputs = {fixed: ["f-effect-points"], per_amount: ["f-effect-rate"],
                multiplier: ["f-effect-factor"], issue_reward: ["f-effect-rewardId"],
                lottery_entries: ["f-effect-drawCode", "f-effect-count"]};
  function show() {
    Object.keys(inputs).forEach(function (name) {
      inputs[name].forEach(function (id) {
        var input = document.getElementById(id);
        if (input) { input.closest(".field").hidden = name !== kind.value; }
      });
    });
  }
  kind.addEventListener("change", show);
  show();
}());
