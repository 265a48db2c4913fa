/**
 * Run configuration: YAML merged over the defaults in {@code defaults.yaml} (the only place a
 * default is written), checked key by key against immutable records, every error reported at once.
 */
package dev.flantune.config;
