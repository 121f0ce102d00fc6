/** Optimizer names to factories. */
import type { OptimizerConfig } from '../config/schema';
import { AdaGrad } from './adagrad';
import { Adam } from './adam';
import type { Optimizer } from './optimizer';
import { RMSprop } from './rmsprop';
import { SGD } from './sgd';

export function makeOptimizer(cfg: OptimizerConfig, size: number): Optimizer {
  switch (cfg.type) {
    case 'sgd':
    case 'momentum':
      return new SGD(size, cfg.momentum, cfg.nesterov);
    case 'adam':
      return new Adam(size, cfg.beta1, cfg.beta2, cfg.epsilon, cfg.weightDecay);
    case 'rmsprop':
      return new RMSprop(size, cfg.rho, cfg.epsilon);
    case 'adagrad':
      return new AdaGrad(size, cfg.epsilon, cfg.initialAccumulator);
  }
}

export { Optimizer };
