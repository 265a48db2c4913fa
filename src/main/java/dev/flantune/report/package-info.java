/**
 * The held-out evaluation report: its data ({@link dev.flantune.report.EvalReport}, per cluster,
 * task, model and template) and its renderings: {@code report.json}, {@code report.md}, a
 * self-contained {@code report.html} with XChart plots embedded as PNG, and the terminal summary
 * table. Knows nothing of models or tasks beyond names and numbers, so it depends on no other
 * flan-tune package.
 */
package dev.flantune.report;
