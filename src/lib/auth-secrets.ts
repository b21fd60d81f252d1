/**
 * The secret(s) Auth.js seals sessions with, in its order (`setEnvDefaults`):
 * `config.secret`, else `AUTH_SECRET_3`, `AUTH_SECRET_2`, `AUTH_SECRET_1`, then `AUTH_SECRET`
 * (or `NEXTAUTH_SECRET`). The first seals; all unseal. Empty when none is set.
 */
export function authSecrets(config?: { secret?: string | string[] | undefined }): string[] {
  const configured = config?.secret;
  if (configured !== undefined && configured.length > 0) return [configured].flat();
  const env = process.env;
  const secrets: string[] = [];
  const main = env.AUTH_SECRET ?? env.NEXTAUTH_SECRET;
  if (main) secrets.push(main);
  for (let i = 1; i <= 3; i++) {
    const secret = env[`AUTH_SECRET_${i}`];
    if (secret) secrets.unshift(secret);
  }
  return secrets;
}
