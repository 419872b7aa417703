// Cosmos DB for NoSQL: the event store (`events`), the read models (`views`), the change-feed leases
// (`leases`) and the projections' dead letters (`deadletters`), exactly as the app creates them on its
// local endpoint (shared/platform/adapters/cosmosClient.ts ensureCosmosContainers; test/unit/infra.test.ts
// compares the two). Keys are disabled: the app's managed identity gets the built-in data role.
//
// Serverless, not autoscale, by cost: serverless bills $0.25 per million RU with no floor; autoscale bills
// each hour's peak, at least 10% of its maximum (100 RU/s for the smallest, 1,000 RU/s: about $9 a
// month) whether used or not. The estimate for a small deployment (docs/deploy.md, "What it costs") is ~35 M RU
// a month, ~$9 serverless: the same as autoscale's floor, while a quiet deployment (staging, early
// days, a region with few places) costs cents, and FORECAST_DAILY_CALL_BUDGET bounds the forecasts'
// share. Serverless is single-region and bursts to 5,000 RU/s per container, enough for a replay of
// the views. Move to autoscale once the RU line stays above ~$9 a month (a steady load is ~7 times
// cheaper per RU there) or to the free tier where the subscription has it (check whether the account
// can change capacity mode in place; if not, that is a new account and a copy of the data).

@description('Cosmos DB account name (3-44 lowercase letters, digits and hyphens).')
@minLength(3)
@maxLength(44)
param accountName string

param location string
param tags object

@description('The database that holds the containers (COSMOS_DATABASE).')
param databaseName string

@description('Principal (object) id of the function app\'s managed identity.')
param principalId string

// The containers and their partition keys, as ensureCosmosContainers creates them. `events` has TTL on
// with no default expiry (defaultTtl -1), so an event's own `ttl` (forecast events: two days) applies.
var containers = [
  { name: 'events', partitionKeyPath: '/streamId', settings: { defaultTtl: -1 } }
  { name: 'views', partitionKeyPath: '/partitionKey', settings: {} }
  { name: 'leases', partitionKeyPath: '/id', settings: {} }
  { name: 'deadletters', partitionKeyPath: '/streamId', settings: {} }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [ { locationName: location, failoverPriority: 0, isZoneRedundant: false } ]
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    capabilities: [ { name: 'EnableServerless' } ]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: { id: databaseName }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for container in containers: {
    parent: database
    name: container.name
    properties: {
      resource: union({ id: container.name, partitionKey: { paths: [ container.partitionKeyPath ], kind: 'Hash' } }, container.settings)
    }
  }
]

// Cosmos DB Built-in Data Contributor (data plane): read, write and query items, read the change feed
// and keep the change-feed leases; with local auth disabled this is the only way in.
var dataContributorRoleId = '00000000-0000-0000-0000-000000000002'

resource dataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(account.id, principalId, dataContributorRoleId)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleId}'
    principalId: principalId
    scope: account.id
  }
}

output name string = account.name
output endpoint string = account.properties.documentEndpoint
