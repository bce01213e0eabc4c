// Applies the theme the viewer chose (if any) before the first paint; without a
// choice the stylesheet follows prefers-color-scheme.
(function () {
  'use strict';
  try {
    var theme = localStorage.getItem('taskflow-theme');
    if (theme === 'light' || theme === 'dark') document.documentElement.setAttribute('data-theme', theme);
  } catch (e) {
    /* storage disabled: follow the system */
  }
})();
