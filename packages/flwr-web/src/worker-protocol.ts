/** Messages between the page and its training Web Worker (structured-clone values only). */

/** One tensor of the model, in PyTorch `state_dict` name and layout. */
export interface WireTensor {
  readonly name: string;
  readonly shape: number[];
  readonly data: Float32Array;
}

/** Where the worker's images come from. */
export interface DataSpec {
  /** The synthetic CIFAR-10 stand-in (`@flwr-ts/ml`'s `syntheticCifar10`). */
  readonly kind: "synthetic";
  /** Training images. */
  readonly trainCount: number;
  /** Test images. */
  readonly testCount: number;
  /** Seed (one per node, so partitions differ). */
  readonly seed: number;
}

/** Page → worker. */
export type WorkerRequest =
  | {
      readonly type: "train";
      readonly id: number;
      readonly weights: WireTensor[];
      readonly epochs: number;
      readonly batchSize: number;
      readonly learningRate: number;
      readonly data: DataSpec;
    }
  | {
      readonly type: "evaluate";
      readonly id: number;
      readonly weights: WireTensor[];
      readonly data: DataSpec;
    };

/** Worker → page. */
export type WorkerResponse =
  | { readonly type: "ready"; readonly backend: string }
  | {
      readonly type: "progress";
      readonly id: number;
      readonly seen: number;
      readonly total: number;
      readonly epoch: number;
      readonly epochs: number;
      readonly loss: number;
    }
  | {
      readonly type: "trained";
      readonly id: number;
      readonly weights: WireTensor[];
      readonly loss: number;
      readonly count: number;
      /** Training images per second (this call). */
      readonly imagesPerSecond: number;
    }
  | {
      readonly type: "evaluated";
      readonly id: number;
      readonly loss: number;
      readonly accuracy: number;
      readonly count: number;
    }
  | { readonly type: "failed"; readonly id: number; readonly error: string };
