/** `ConfigRecord`: named configuration values (Python Flower's `ConfigRecord`). */
import { RecordMap } from "./record-map.js";
import { type ConfigValue, classifyValue } from "./scalar.js";

/**
 * An ordered map of name → integer (`bigint`), float (`number`), boolean, string, bytes
 * (`Uint8Array`), or a homogeneous list of one of these.
 *
 * Example: `new ConfigRecord({ "server-round": 1n, lr: 0.1, optimizer: "sgd" })`.
 * Lists are copied and frozen when set; byte values are kept by reference.
 */
export class ConfigRecord extends RecordMap<ConfigValue> {
  protected check(key: string, value: ConfigValue): ConfigValue {
    classifyValue(value, true, key);
    return Array.isArray(value) ? Object.freeze([...value]) : value;
  }
}
