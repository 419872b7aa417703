// The Event Grid custom topic the change feed is published to (publishEvents). The app publishes
// CloudEvents 1.0 (shared/platform/publishing/cloudEvents.ts, EventGridPublisherClient 'CloudEvent'), so the
// topic takes the CloudEvents schema; keys are disabled and the app's identity sends with the
// "EventGrid Data Sender" role (EVENTGRID_TOPIC_KEY stays unset, so the app uses DefaultAzureCredential).
// The topic's own identity writes dead letters to the storage account, which refuses shared keys.
// The subscriptions are in eventSubscriptions.bicep: they need the functions deployed first.

@description('Event Grid topic name (3-50 letters, digits and hyphens).')
@minLength(3)
@maxLength(50)
param topicName string

param location string
param tags object

@description('Principal (object) id of the function app\'s managed identity: it publishes.')
param principalId string

@description('The storage account that holds the dead-letter container.')
param storageAccountName string

@description('Blob container that Event Grid dead-letters undeliverable events to.')
param deadLetterContainerName string

resource topic 'Microsoft.EventGrid/topics@2022-06-15' = {
  name: topicName
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    publicNetworkAccess: 'Enabled'
    disableLocalAuth: true
  }
}

var eventGridDataSender = 'd5a91429-5739-47e2-a06b-3470a27159e7' // EventGrid Data Sender

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, principalId, eventGridDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventGridDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storageAccount
  name: 'default'
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: deadLetterContainerName
}

var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor

resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, topic.id, storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: topic.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = topic.name
output id string = topic.id
output endpoint string = topic.properties.endpoint
