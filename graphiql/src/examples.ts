/**
 * The operations GraphiQL opens with, one tab each. Plain data with no React or DOM imports so
 * test/graphiql-examples.test.ts can validate them against schema.graphql.
 */

export interface ExampleOperation {
  /** GraphQL document: comments saying what to fill in, then one operation. */
  query: string;
  variables: Record<string, unknown>;
}

const accountByCode = `# An account found by its code: its balance now and its latest entries (newest first).
#
# Fill in "code" in the Variables pane below (codes are chosen by you in createAccount, e.g.
# "merchant:shirtypuff:available"). Amounts are strings of integer minor units: "1050" is
# 10.50 when currency.scale is 2, and 1050 when it is 0.
# Page through older entries with entries(first: 20, after: <pageInfo.endCursor>).
# Needs an access token (field at the top right): run createAccessToken, or use an API key.
query AccountByCode($code: String!, $entriesFirst: Int = 10) {
  account(code: $code) {
    id
    code
    name
    normalSide
    currency {
      code
      scale
    }
    minBalance
    maxBalance
    balance {
      posted
      pending
      available
      version
    }
    entries(first: $entriesFirst) {
      nodes {
        id
        kind
        direction
        amount
        createdAt
        balanceAfter {
          posted
          available
          version
        }
        transfer {
          id
          description
        }
        hold {
          id
          status
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
`;

const balanceAsOf = `# An account's balance as it was at an instant in the past, next to its balance now.
#
# Fill in "code" and "asOf" (ISO 8601, UTC, earlier than the server's clock) in the Variables
# pane. An as-of answer never changes once given. "version" counts the entries up to then.
query BalanceAsOf($code: String!, $asOf: DateTime!) {
  account(code: $code) {
    id
    code
    currency {
      code
      scale
    }
    thenBalance: balance(asOf: $asOf) {
      posted
      pending
      available
      version
    }
    nowBalance: balance {
      posted
      pending
      available
      version
    }
  }
}
`;

const balanceChanged = `# Live balance changes of accounts, over the WebSocket at /graphql (graphql-ws).
#
# Fill in "accountIds" with account ids ("acct_..."; the AccountByCode tab shows them), then
# run it and post a transfer (PostTransfer tab, or curl): each change shows up in the response
# pane, which holds the latest event. Press the stop button to end the subscription.
# To replay what you missed, add "afterVersion": ["<last version you saw>"] (one per account).
# The access token goes in connection_init; a rejected token closes the socket with 4401.
subscription BalanceChanged($accountIds: [ID!]!, $afterVersion: [BigInt!]) {
  balanceChanged(accountIds: $accountIds, afterVersion: $afterVersion) {
    account {
      id
      code
    }
    version
    replayed
    createdAt
    balance {
      posted
      pending
      available
      version
    }
    entry {
      id
      kind
      direction
      amount
    }
    transfer {
      id
      description
    }
    hold {
      id
      status
    }
  }
}
`;

const postTransfer = `# Moves money: debits "from" and credits "to" by "amount" (integer minor units, as a string).
#
# Fill in the accounts (by code or id), the amount and the currency in the Variables pane.
# Use a new idempotencyKey for each new transfer: sending the same key again returns the
# first result with replay: true instead of posting twice. A business rejection (e.g.
# InsufficientFunds) comes back as a Problem with a stable code, not as a GraphQL error.
mutation PostTransfer($input: TransferInput!) {
  postTransfer(input: $input) {
    __typename
    ... on TransferPosted {
      replay
      transfer {
        id
        description
        createdAt
      }
      balances {
        account {
          code
        }
        balance {
          posted
          available
          version
        }
      }
    }
    ... on Problem {
      code
      message
    }
  }
}
`;

/** An instant an hour before `now`, to whole seconds: a past instant the as-of example can use. */
function anHourBefore(now: Date): string {
  const instant = new Date(now.getTime() - 3_600_000);
  return instant.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function exampleOperations(now: Date = new Date()): ExampleOperation[] {
  return [
    {
      query: accountByCode,
      variables: { code: "merchant:shirtypuff:available", entriesFirst: 10 },
    },
    {
      query: balanceAsOf,
      variables: { code: "merchant:shirtypuff:available", asOf: anHourBefore(now) },
    },
    {
      query: balanceChanged,
      variables: { accountIds: ["acct_..."] },
    },
    {
      query: postTransfer,
      variables: {
        input: {
          idempotencyKey: `graphiql-${now.getTime()}`,
          from: { code: "bank:usd" },
          to: { code: "merchant:shirtypuff:available" },
          amount: "1050",
          currency: "USD",
          description: "Sent from GraphiQL",
        },
      },
    },
  ];
}
