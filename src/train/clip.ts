/**
 * Gradient-norm clipping, the guide's remedy for exploding gradients: when the
 * L2 norm of all gradients together exceeds maxNorm, scale them all down to
 * it (coefficient maxNorm / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_).
 * Returns the norm before clipping.
 */
export function clipGradNorm(grad: Float32Array, maxNorm: number): number {
  let sq = 0;
  for (let i = 0; i < grad.length; i++) sq += grad[i] * grad[i];
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (let i = 0; i < grad.length; i++) grad[i] *= coef;
  return norm;
}
