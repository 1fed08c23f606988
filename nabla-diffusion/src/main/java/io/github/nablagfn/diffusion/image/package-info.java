/** Image output: PNG grids of samples. */
package io.github.nablagfn.diffusion.image;
