module mainjob

go 1.19
