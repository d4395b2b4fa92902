// MathJax 3, served from this site (assets/mathjax), never from a CDN.
// Markdown pages: pymdownx.arithmatex (generic mode) wraps each formula in an element of class
// "arithmatex" with \( \) or \[ \] delimiters. Notebook pages: nbconvert keeps $...$ and $$...$$ as
// written in the markdown cells (class jp-MarkdownOutput). Only those elements are typeset, so a dollar
// sign in code, in a table of numbers or in the navigation is left alone.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  startup: {
    elements: [".arithmatex", ".jp-MarkdownOutput"],
  },
};
