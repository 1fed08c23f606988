/** Optimizers: AdamW with decoupled weight decay and global-norm gradient clipping, with saveable state. */
package io.github.nablagfn.core.optim;
