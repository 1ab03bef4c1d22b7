import type { ParametersReadModel } from '../ports';

/** Lifetimes from the enterprise parameters (seed S9), in seconds. */
export async function tokenLifetimes(parameters: ParametersReadModel) {
  const { values } = await parameters.current();
  return { access: values.accessTokenExpiryMinutes * 60, refresh: values.refreshTokenExpiryDays * 86_400 };
}
