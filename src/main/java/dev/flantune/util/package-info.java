/**
 * Small shared pieces: the exception that carries an exit code, JSONL reading with line numbers,
 * quiet stdout.
 */
package dev.flantune.util;
