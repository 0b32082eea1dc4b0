// Inputs marked data-select-on-focus select their whole value on focus (a new API key).
document.addEventListener("focusin", function (event) {
  var target = event.target;
  if (target && target.matches && target.matches("input[data-select-on-focus]")) target.select();
});
