// Visit Plannr in Azure (docs/architecture.md, "In Azure"): a Flex Consumption function
// app on Node 22 with a user-assigned managed identity; its storage account (host, Durable Functions task
// hub, queues; no shared keys); Cosmos DB for NoSQL (serverless) with the event store's containers; an
// Event Grid custom topic (CloudEvents 1.0) with one subscription per eventGrid-triggered function; and
// Application Insights on a Log Analytics workspace. Nothing authenticates with a key: no connection
// string, account key, topic key or SAS is in any app setting (the one secret, only with sign-in on, is the
// Entra client secret that App Service Authentication needs). Optionally, sign-in with Microsoft Entra ID.
//
// Deploy in three steps (docs/deploy.md): (1) this template, (2) the code, (3) this template
// again with deploySubscriptions=true. An Event Grid subscription to an AzureFunction endpoint is
// checked against the function itself when it is created, and the functions exist only once the code
// is deployed.
//
// What the hosting choices rest on (Microsoft documentation and samples, as read in 2026; check again
// before relying on them):
// - Flex Consumption (FC1) rather than Consumption (Y1): hosting on Linux in the Consumption plan retires
//   on 30 September 2028 and gets no new language versions ("Azure Functions runtime versions overview",
//   learn.microsoft.com/azure/azure-functions/functions-versions). Flex supports managed identity for
//   everything, the deployment package included (functionAppConfig.deployment.storage.authentication
//   UserAssignedIdentity, Microsoft.Web API 2023-12-01 and later), so the storage account can refuse
//   shared keys; on Linux Consumption the zip deployment runs the package from a blob behind a SAS URL
//   (WEBSITE_RUN_FROM_PACKAGE), which takes the account's keys.
// - Durable Functions run on Flex with the Azure Storage provider, the one this app uses: "Azure Storage is
//   currently the only supported storage provider for Durable Functions when hosted in the Flex
//   Consumption plan" (durable-functions-azure-storage-provider, "Flex Consumption plan"). That page also
//   recommends one always-ready instance for the "durable" group against cold starts; it is billed around
//   the clock, so it is a parameter (alwaysReadyDurableInstances), 0 by default.
// - Identity-based host storage: AzureWebJobsStorage__accountName, __credential=managedidentity and
//   __clientId (a user-assigned identity), with Storage Blob Data Owner, Queue Data Contributor and Table
//   Data Contributor ("Quickstart: Configure Durable Functions with managed identity",
//   durable-functions-configure-managed-identity; Microsoft's Flex samples
//   Azure-Samples/functions-quickstart-typescript-azd-cosmosdb and durable-functions-quickstart-typescript-azd
//   set the same).
// - No FUNCTIONS_WORKER_RUNTIME app setting: Flex takes the language from functionAppConfig.runtime and
//   refuses that setting; FUNCTIONS_EXTENSION_VERSION is deprecated there too ("Flex Consumption plan
//   deprecations" in functions-app-settings; microsoft/vscode-azurefunctions#4761,
//   Azure/azure-functions-core-tools#4645; but see Azure/azure-functions-host#10714 if the portal then
//   fails to list the functions).
// - The Cosmos DB triggers' connection is named COSMOS_CONNECTION (functions/*.cosmos.ts), so with an
//   identity the host reads COSMOS_CONNECTION__accountEndpoint/__credential/__clientId, as Microsoft's Flex
//   Cosmos DB sample sets them; the app's own client reads COSMOS__accountEndpoint (shared/platform/config.ts).
//   Both are set, to the same account.
// - A user-assigned identity rather than the app's system-assigned one: it and its role assignments exist
//   before the app starts, so the first start does not race the role assignments; the app's SDK clients
//   (DefaultAzureCredential) find it through AZURE_CLIENT_ID.
// - Node 22 by default: Node 20 reached end of life on 30 April 2026, and Functions 4.x runs Node 22 on
//   Flex Consumption (az functionapp list-flexconsumption-runtimes -l <region> --runtime node). 20 is
//   still allowed for a deployment that must stay on it while a region offers it; the app and its
//   tests run on both (package.json engines).
// - Sign-in for editors and admins (docs/deploy.md, "Sign-in with Microsoft Entra ID"): App Service
//   Authentication v2 ("Easy Auth", the authsettingsV2 resource below) with Microsoft Entra ID, only when
//   entraClientId is set. It authenticates and lets every request through (AllowAnonymous): the app reads
//   the caller from x-ms-client-principal and decides itself; scripts keep using function keys. On Flex
//   Consumption: the preview's "Considerations" said "EasyAuth isn't currently supported. Unauthenticated
//   callers currently aren't blocked" ("Azure Functions Flex Consumption plan hosting",
//   learn.microsoft.com/azure/azure-functions/flex-consumption-plan, as of 05/2024); the GA page (05/2025)
//   no longer lists it, and "Migrate Consumption plan apps to the Flex Consumption plan"
//   (azure-functions/migration/migrate-plan-consumption-to-flex, 09/2025) has a "Configure built-in
//   authentication" step for the new Flex app. This template never relies on Easy Auth to block anyone.

targetScope = 'resourceGroup'

@description('Azure region of every resource; it must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Short lowercase name that prefixes every resource name (letters, digits, hyphens).')
@minLength(3)
@maxLength(11)
param appName string = 'visitplannr'

@description('Node.js version of the Flex Consumption runtime: 22; 20 only while the region still offers it (its end of life was 30 April 2026).')
@allowed([ '20', '22' ])
param nodeVersion string = '22'

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([ 512, 2048, 4096 ])
param instanceMemoryMB int = 2048

@description('Most instances the app may scale out to: a ceiling on what a burst can cost.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Always-ready instances for the durable group (orchestrations and activities). Billed around the clock; 0 means scale to zero.')
@minValue(0)
@maxValue(5)
param alwaysReadyDurableInstances int = 0

@description('Create the Event Grid subscriptions. Only after the code is deployed: they point at its functions.')
param deploySubscriptions bool = false

@description('Cosmos DB database (COSMOS_DATABASE).')
param cosmosDatabaseName string = 'visitplannr'

@description('Durable Functions task hub (DURABLE_TASK_HUB; host.json reads it): letters and digits, 3-45, starting with a letter.')
@minLength(3)
@maxLength(45)
param durableTaskHub string = 'VisitPlannr'

@description('Forecast provider (WEATHER_PROVIDER).')
@allowed([ 'open-meteo', 'met-office' ])
param weatherProvider string = 'open-meteo'

@description('Forecast API base URL (WEATHER_BASE_URL); empty for the provider\'s own.')
param weatherBaseUrl string = ''

@description('Met Office DataHub key (MET_OFFICE_API_KEY); required when weatherProvider is met-office.')
@secure()
param metOfficeApiKey string = ''

@description('How old any active region\'s forecast may get before it is fetched again (FORECAST_REFRESH_MINUTES); 360 with a 2-minute cycle keeps 2,000 regions within Open-Meteo\'s free 10,000 calls a day.')
@minValue(5)
@maxValue(1440)
param forecastRefreshMinutes int = 60

@description('Minutes between forecast refresh cycles (FORECAST_CYCLE_MINUTES); 0: as long as forecastRefreshMinutes, so every cycle fetches every region. Otherwise at least 2 and at most forecastRefreshMinutes; with forecastSearchedMaxAgeMinutes below forecastRefreshMinutes, less than forecastSearchedMaxAgeMinutes - 3 (the app refuses to start otherwise).')
@minValue(0)
@maxValue(1440)
param forecastCycleMinutes int = 0

@description('How old the forecast of a region searched in the last 6 hours may get (FORECAST_SEARCHED_MAX_AGE_MINUTES; at most forecastRefreshMinutes). Below it, it needs a forecastCycleMinutes shorter than this less 3.')
@minValue(5)
@maxValue(1440)
param forecastSearchedMaxAgeMinutes int = 60

@description('Region forecast fetches allowed per day (FORECAST_DAILY_CALL_BUDGET).')
@minValue(1)
@maxValue(1000000)
param forecastDailyCallBudget int = 5000

@description('Region forecast fetches the provider allows per minute, the most one refresh cycle fetches (FORECAST_CALLS_PER_MINUTE); Open-Meteo\'s free tier: 600.')
@minValue(1)
@maxValue(10000)
param forecastCallsPerMinute int = 600

@description('Regions per Open-Meteo request (FORECAST_BATCH_SIZE).')
@minValue(1)
@maxValue(200)
param forecastBatchSize int = 50

@description('Forecast fetch activities in flight at once (FORECAST_PARALLELISM).')
@minValue(1)
@maxValue(32)
param forecastParallelism int = 4

@description('Geohash length of a forecast region (REGION_PRECISION).')
@minValue(3)
@maxValue(7)
param regionPrecision int = 5

@description('Geocoding API base URL (GEOCODER_BASE_URL).')
param geocoderBaseUrl string = 'https://geocoding-api.open-meteo.com'

@description('postcodes.io base URL (POSTCODES_BASE_URL).')
param postcodesBaseUrl string = 'https://api.postcodes.io'

@description('Application (client) ID of the Microsoft Entra app registration editors and admins sign in with (docs/deploy.md, "Sign-in with Microsoft Entra ID"). Empty (the default): no App Service Authentication, only function keys.')
param entraClientId string = ''

@description('Directory (tenant) ID of that app registration: the sign-in issuer is <login endpoint><tenant>/v2.0.')
param entraTenantId string = tenant().tenantId

@description('A client secret of that app registration, required with entraClientId. It becomes the app setting MICROSOFT_PROVIDER_AUTHENTICATION_SECRET, which App Service Authentication reads; never an output.')
@secure()
param entraClientSecret string = ''

@description('Daily ingestion cap of the Log Analytics workspace, in GB.')
@minValue(1)
param logDailyCapGb int = 1

@description('Tags on every resource.')
param tags object = { app: 'visit-plannr' }

var token = uniqueString(subscription().id, resourceGroup().id, appName)
var prefix = toLower(appName)
var compactPrefix = replace(prefix, '-', '')
var functionAppName = '${prefix}-${token}'
var storageAccountName = take('st${compactPrefix}${token}', 24)
var deploymentContainerName = 'app-package'
var deadLetterContainerName = 'eventgrid-deadletters'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${prefix}-id-${token}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: '${prefix}-logs-${token}'
    appInsightsName: '${prefix}-insights-${token}'
    location: location
    tags: tags
    principalId: identity.properties.principalId
    dailyCapGb: logDailyCapGb
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: storageAccountName
    location: location
    tags: tags
    principalId: identity.properties.principalId
    deploymentContainerName: deploymentContainerName
    deadLetterContainerName: deadLetterContainerName
    queueNames: [ 'forecast-refresh-requests' ]
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    accountName: '${prefix}-cosmos-${token}'
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    principalId: identity.properties.principalId
  }
}

module eventGrid 'modules/eventGrid.bicep' = {
  name: 'eventGrid'
  params: {
    topicName: '${prefix}-events-${token}'
    location: location
    tags: tags
    principalId: identity.properties.principalId
    storageAccountName: storage.outputs.name
    deadLetterContainerName: deadLetterContainerName
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${prefix}-plan-${token}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

// The app waits for the modules whose outputs it uses, so every role assignment exists before it starts
// (Azure may still take a few minutes to apply them: the host retries meanwhile).
resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      // Every setting the app reads (shared/platform/config.ts) and the host's own, by identity. The test
      // test/unit/infra.test.ts checks this list against the app.
      appSettings: [
        // Host storage, the durable task hub and the forecast-refresh-requests queue
        { name: 'AzureWebJobsStorage__accountName', value: storage.outputs.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
        { name: 'DURABLE_TASK_HUB', value: durableTaskHub }
        // Telemetry, with Entra ID (the component has local auth off)
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: monitoring.outputs.connectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
        // The app serves its own page at /
        { name: 'AzureWebJobsDisableHomepage', value: 'true' }
        // The identity DefaultAzureCredential uses for Cosmos DB, Event Grid and the queue client
        { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
        // Cosmos DB: the app's client, and the change-feed triggers' connection (COSMOS_CONNECTION)
        { name: 'COSMOS__accountEndpoint', value: cosmos.outputs.endpoint }
        { name: 'COSMOS_CONNECTION__accountEndpoint', value: cosmos.outputs.endpoint }
        { name: 'COSMOS_CONNECTION__credential', value: 'managedidentity' }
        { name: 'COSMOS_CONNECTION__clientId', value: identity.properties.clientId }
        { name: 'COSMOS_DATABASE', value: cosmosDatabaseName }
        // Event Grid: no EVENTGRID_TOPIC_KEY, so the app publishes with its identity
        { name: 'EVENTGRID_TOPIC_ENDPOINT', value: eventGrid.outputs.endpoint }
        // Forecasts and geocoding (empty means the app's default)
        { name: 'WEATHER_PROVIDER', value: weatherProvider }
        { name: 'WEATHER_BASE_URL', value: weatherBaseUrl }
        { name: 'MET_OFFICE_API_KEY', value: metOfficeApiKey }
        { name: 'FORECAST_REFRESH_MINUTES', value: string(forecastRefreshMinutes) }
        { name: 'FORECAST_CYCLE_MINUTES', value: string(forecastCycleMinutes) }
        { name: 'FORECAST_SEARCHED_MAX_AGE_MINUTES', value: string(forecastSearchedMaxAgeMinutes) }
        { name: 'FORECAST_DAILY_CALL_BUDGET', value: string(forecastDailyCallBudget) }
        { name: 'FORECAST_CALLS_PER_MINUTE', value: string(forecastCallsPerMinute) }
        { name: 'FORECAST_BATCH_SIZE', value: string(forecastBatchSize) }
        { name: 'FORECAST_PARALLELISM', value: string(forecastParallelism) }
        { name: 'REGION_PRECISION', value: string(regionPrecision) }
        { name: 'GEOCODER_BASE_URL', value: geocoderBaseUrl }
        { name: 'POSTCODES_BASE_URL', value: postcodesBaseUrl }
        // The Entra client secret App Service Authentication reads (authSettings below; empty without
        // sign-in). No Key Vault in this template, so a secure parameter rather than a Key Vault reference.
        { name: 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET', value: entraClientSecret }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.outputs.blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReadyDurableInstances > 0 ? [ { name: 'durable', instanceCount: alwaysReadyDurableInstances } ] : []
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

// App Service Authentication v2 ("Easy Auth") with Microsoft Entra ID, only with an app registration
// (entraClientId): without one nothing is configured and callers use function keys only. Requests are
// authenticated when they carry a sign-in session or token and go through either way (AllowAnonymous):
// the app reads x-ms-client-principal (object id, `roles` with the app role "admin") and decides what an
// anonymous caller may do. Flex Consumption and built-in authentication: see the top of this file.
// A later run without entraClientId leaves this configuration in place but empties the secret setting:
// pass both parameters on every run once sign-in is on (docs/deploy.md).
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(entraClientId)) {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
      // The app asks its host about machine keys here (functions/keyCheck.http.ts): whatever the setting above
      // becomes, the platform's own 401 or sign-in redirect must never stand in for the host's answer.
      excludedPaths: [ '/api/keys/function', '/api/keys/admin' ]
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          // https://login.microsoftonline.com/<tenant>/v2.0 in Azure's public cloud
          openIdIssuer: '${environment().authentication.loginEndpoint}${entraTenantId}/v2.0'
          clientId: entraClientId
          clientSecretSettingName: 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'
        }
        validation: {
          allowedAudiences: [ 'api://${entraClientId}' ]
          // Tokens issued to this app registration only: another app in the tenant cannot call in as a "person".
          defaultAuthorizationPolicy: {
            allowedApplications: [ entraClientId ]
          }
        }
      }
    }
    login: {
      // /.auth/me reads the token store
      tokenStore: { enabled: true }
      // Only relative post_login_redirect_uri values (e.g. /editor): no redirect to another site
      allowedExternalRedirectUrls: []
    }
    httpSettings: {
      requireHttps: true
    }
  }
}

module eventSubscriptions 'modules/eventSubscriptions.bicep' = if (deploySubscriptions) {
  name: 'eventSubscriptions'
  params: {
    topicName: eventGrid.outputs.name
    functionAppName: functionApp.name
    storageAccountId: storage.outputs.id
    deadLetterContainerName: deadLetterContainerName
  }
}

output functionAppName string = functionApp.name
output functionAppUrl string = 'https://${functionApp.properties.defaultHostName}'
output storageAccountName string = storage.outputs.name
output cosmosAccountName string = cosmos.outputs.name
output cosmosDatabaseName string = cosmosDatabaseName
output eventGridTopicName string = eventGrid.outputs.name
output applicationInsightsName string = monitoring.outputs.name
output identityClientId string = identity.properties.clientId
output subscriptionsDeployed bool = deploySubscriptions
output signInConfigured bool = !empty(entraClientId)
