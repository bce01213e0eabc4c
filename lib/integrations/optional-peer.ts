/**
 * Loads an optional peer dependency when a feature that needs it is used, so apps
 * that do not use the feature need not install it. A missing package is reported
 * with the feature that asked for it and the command that fixes it.
 */
export function requireOptionalPeer<T>(packageName: string, feature: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(packageName) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(packageName)) {
      throw new Error(`nestjs-taskflow: ${feature} needs the package "${packageName}", which is not installed. Run: npm install ${packageName}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Loads an optional peer that turns a feature on merely by being installed (OpenTelemetry):
 * null when the package is not installed, where requireOptionalPeer would throw.
 */
export function loadOptionalPeer<T>(packageName: string): T | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(packageName) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(packageName)) return null;
    throw error;
  }
}
