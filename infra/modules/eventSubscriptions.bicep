// One Event Grid subscription per eventGrid-triggered function, each filtered as devhost.eventgrid.json
// filters it locally (test/unit/infra.test.ts keeps the two, and the functions in functions/, in step).
//
// Deployed only when main.bicep's deploySubscriptions is true, i.e. after the code: Event Grid checks an
// AzureFunction endpoint against the function itself when the subscription is created, and fails with
// "Destination endpoint not found" while the app has no functions.

@description('The Event Grid topic (eventGrid.bicep).')
param topicName string

@description('The function app whose functions receive the events.')
param functionAppName string

@description('Resource id of the storage account that holds the dead-letter container.')
param storageAccountId string

@description('Blob container that undeliverable events go to.')
param deadLetterContainerName string

var subscribers = [
  { functionName: 'validatePlaceLocation', includedEventTypes: [ 'VisitPlannr.PlaceProposed' ] }
  { functionName: 'activateRegion', includedEventTypes: [ 'VisitPlannr.PlaceLocationValidated' ] }
]

// Event Grid's own defaults, spelled out (the devhost uses the same): a handler that throws (a geocoder
// fault, a store outage) is retried with back-off for up to 30 attempts or a day, then dead-lettered.
var retryPolicy = {
  maxDeliveryAttempts: 30
  eventTimeToLiveInMinutes: 1440
}

resource topic 'Microsoft.EventGrid/topics@2022-06-15' existing = {
  name: topicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource subscriptions 'Microsoft.EventGrid/topics/eventSubscriptions@2022-06-15' = [
  for subscriber in subscribers: {
    parent: topic
    name: subscriber.functionName
    properties: {
      eventDeliverySchema: 'CloudEventSchemaV1_0'
      destination: {
        endpointType: 'AzureFunction'
        properties: {
          resourceId: '${functionApp.id}/functions/${subscriber.functionName}'
          // One event per invocation: the trigger handles one, and one failing event is retried alone.
          maxEventsPerBatch: 1
          preferredBatchSizeInKilobytes: 64
        }
      }
      filter: {
        includedEventTypes: subscriber.includedEventTypes
      }
      retryPolicy: retryPolicy
      deadLetterWithResourceIdentity: {
        identity: { type: 'SystemAssigned' }
        deadLetterDestination: {
          endpointType: 'StorageBlob'
          properties: {
            resourceId: storageAccountId
            blobContainerName: deadLetterContainerName
          }
        }
      }
    }
  }
]

output names array = [for i in range(0, length(subscribers)): subscriptions[i].name]
