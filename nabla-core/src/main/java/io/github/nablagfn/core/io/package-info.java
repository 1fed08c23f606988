/**
 * File formats: the safetensors reader and writer used for weights, optimizer state and the PyTorch
 * twin's fixtures, with strict validation of untrusted files.
 */
package io.github.nablagfn.core.io;
