// Parameters for infra/main.bicep; every one not set here keeps the template's default (see its
// @description lines). Use it instead of inline -p flags:
//   az deployment group create -g <group> -n visitplannr -p infra/main.bicepparam
// and, once the code is deployed, the second run that adds the Event Grid subscriptions:
//   DEPLOY_SUBSCRIPTIONS=true az deployment group create -g <group> -n visitplannr -p infra/main.bicepparam
// (with sign-in on, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET set as well).
using 'main.bicep'

param appName = 'visitplannr'
param nodeVersion = '22'
param instanceMemoryMB = 2048
param maximumInstanceCount = 40
param alwaysReadyDurableInstances = 0

param weatherProvider = 'open-meteo'
// From the environment, so the key never lands in the repository.
param metOfficeApiKey = readEnvironmentVariable('MET_OFFICE_API_KEY', '')
// Forecasts follow search demand: searched regions within forecastSearchedMaxAgeMinutes, every
// region within forecastRefreshMinutes. For 2,000 regions on Open-Meteo's free tier: 360, a 2-minute
// cycle, 60, 9500 (the rest of the provider's 10,000 left for health probes and retries) and 600 a
// minute (docs/operations.md, "Forecast freshness and the call budget").
param forecastRefreshMinutes = 60
param forecastCycleMinutes = 0
param forecastSearchedMaxAgeMinutes = 60
param forecastDailyCallBudget = 5000
param forecastCallsPerMinute = 600
param regionPrecision = 5

param deploySubscriptions = readEnvironmentVariable('DEPLOY_SUBSCRIPTIONS', 'false') == 'true'

// Sign-in with Microsoft Entra ID (docs/deploy.md, "Sign-in with Microsoft Entra ID"), from the
// environment like the Met Office key: no ENTRA_CLIENT_ID (the default) deploys no App Service
// Authentication, only function keys. Once it is on, set both on every run.
param entraClientId = readEnvironmentVariable('ENTRA_CLIENT_ID', '')
param entraClientSecret = readEnvironmentVariable('ENTRA_CLIENT_SECRET', '')
