/**
 * The data store contract (`tests/contract/`) against the SQLite store, on a
 * fresh in-memory database per test. A second engine runs the same suites
 * from its own runner file.
 */
import { defineAuditContract } from "./contract/audit_contract.ts";
import { defineProductsContract } from "./contract/products_contract.ts";
import { defineRolesContract } from "./contract/roles_contract.ts";
import { defineTokensContract } from "./contract/tokens_contract.ts";
import { defineTransactionContract } from "./contract/transaction_contract.ts";
import { defineUsersContract } from "./contract/users_contract.ts";
import { testStore } from "./helpers.ts";

const makeStore = () => testStore();

defineTransactionContract("sqlite", makeStore);
defineUsersContract("sqlite", makeStore);
defineRolesContract("sqlite", makeStore);
defineProductsContract("sqlite", makeStore);
defineTokensContract("sqlite", makeStore);
defineAuditContract("sqlite", makeStore);
