export type Role = 'admin' | 'partner' | 'account';

/** Who is asking: decides which accounts every query may see. */
export interface Principal {
  userId: number;
  email: string;
  role: Role;
  accountId: number | null;
  partnerId: number | null;
}
