package mongo
