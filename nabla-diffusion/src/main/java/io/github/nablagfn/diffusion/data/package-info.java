/** Image datasets: the IDX format of MNIST and Fashion-MNIST (raw or gzip), validated, and conversion to model inputs. */
package io.github.nablagfn.diffusion.data;
