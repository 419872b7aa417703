// Application Insights on a Log Analytics workspace. Local (instrumentation key) auth is off: the host
// sends telemetry with the app's identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING) and the
// "Monitoring Metrics Publisher" role. The workspace has a daily cap so a logging storm cannot run up
// the bill (docs/deploy.md, "What it costs").

param workspaceName string
param appInsightsName string
param location string
param tags object

@description('Principal (object) id of the function app\'s managed identity.')
param principalId string

@description('Daily ingestion cap of the workspace, in GB.')
@minValue(1)
param dailyCapGb int

@description('Days the workspace keeps logs (30 are included in the price).')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
    workspaceCapping: { dailyQuotaGb: dailyCapGb }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
  }
}

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = appInsights.name
output connectionString string = appInsights.properties.ConnectionString
