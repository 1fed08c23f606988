/**
 * Files: the safetensors reader and writer used for weights, optimizer state and the PyTorch twin's
 * fixtures, with strict validation of untrusted files; crash-safe replacement of files
 * ({@link io.github.nablagfn.core.io.AtomicFiles}, with streamed SHA-256); the run-directory lock
 * ({@link io.github.nablagfn.core.io.RunLock}); and the fault points the tests use to fail writes at
 * every step ({@link io.github.nablagfn.core.io.FaultPoints}).
 */
package io.github.nablagfn.core.io;
