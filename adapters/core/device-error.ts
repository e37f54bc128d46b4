// The one base of every failure a device causes: the message names the device for the log, the detail does not.

/** DeviceError is a device that did not do what was asked; detail says what failed without naming the device. */
export class DeviceError extends Error {
  override name = 'DeviceError';
  /** detail is what went wrong, without address or credentials: for people who may not see the device. */
  readonly detail: string;

  constructor(message: string, detail: string) {
    super(message);
    this.detail = detail;
  }
}
