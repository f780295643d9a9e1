// The handout's "Print / Save as PDF" button (no inline script: the CSP allows only files from this site).
const button = document.getElementById("print-handout");
if (button) {
  button.addEventListener("click", () => window.print());
}
