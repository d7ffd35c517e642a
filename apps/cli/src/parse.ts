import { InvalidArgumentError } from 'commander';

/**
 * Option parsers check syntax only ("abc" is not a number: exit 2); ranges are the server's to judge, so the
 * CLI and every other client refuse the same values with the same words.
 */
export function wholeNumber(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

export function decimalNumber(value: string): number {
  if (!/^-?\d+(\.\d+)?$/.test(value.trim())) throw new InvalidArgumentError('must be a number');
  return Number(value);
}

export function onOff(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'on' || v === 'true' || v === 'yes') return true;
  if (v === 'off' || v === 'false' || v === 'no') return false;
  throw new InvalidArgumentError('must be on or off');
}
