// Live ALSFRS-R totals by domain while the form is filled in (the server scores it again on save).
(function () {
  var form = document.querySelector("form[data-alsfrs]");
  if (!form) return;
  var domains = JSON.parse(form.getAttribute("data-alsfrs"));
  function value(key) {
    var chosen = form.querySelector('input[name="' + key + '"]:checked');
    return chosen ? parseInt(chosen.value, 10) : null;
  }
  function update() {
    var total = 0, complete = true;
    Object.keys(domains).forEach(function (domain) {
      var sum = 0;
      domains[domain].forEach(function (key) {
        if (key === "q5") {
          var five = form.querySelector('input[name="gastrostomy"]:checked') ? value("q5b") : value("q5a");
          if (five === null) complete = false; else sum += five;
        } else {
          var v = value(key);
          if (v === null) complete = false; else sum += v;
        }
      });
      var cell = document.getElementById("total-" + domain);
      if (cell) cell.textContent = sum;
      total += sum;
    });
    var cell = document.getElementById("total-all");
    if (cell) cell.textContent = complete ? total + " / 48" : total + " so far";
  }
  form.addEventListener("change", update);
  update();
})();
